/** Prometheus text exposition of the node's counters. */
import type { NodeService } from "../service.ts";

/** "model|status" -> requests answered. */
export type RequestCounters = Map<string, number>;

export function renderMetrics(service: NodeService, requests: RequestCounters): string {
  const lines: string[] = [];
  const metric = (name: string, type: "counter" | "gauge", help: string, samples: [string, number][]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  metric("pod_node_requests_total", "counter", "Requests answered by the local endpoint.", [...requests].map(([key, n]) => {
    const [model, status] = key.split("|");
    return [`{model=${JSON.stringify(model)},status="${status}"}`, n];
  }));
  const load = service.load;
  metric("pod_node_active_requests", "gauge", "Requests being decoded.", [["", load.active]]);
  metric("pod_node_queued_requests", "gauge", "Requests waiting for a batch slot.", [["", load.queued]]);
  metric("pod_node_draining", "gauge", "1 while the node finishes in-flight work before exit.", [["", service.isDraining ? 1 : 0]]);
  const perModel = (pick: (c: ReturnType<NodeService["engineFor"]>["counters"]) => number): [string, number][] =>
    service.models.map((m) => [`{model=${JSON.stringify(m.manifest.modelId)}}`, pick(service.engineFor(m.manifest.modelId).counters)]);
  metric("pod_node_forward_passes_total", "counter", "ONNX Runtime forward passes.", perModel((c) => c.forwardPasses));
  metric("pod_node_decode_steps_total", "counter", "Batched decode steps.", perModel((c) => c.decodeSteps));
  metric("pod_node_decode_rows_total", "counter", "Sequence-steps decoded (rows summed over steps).", perModel((c) => c.decodeRows));
  metric("pod_node_tokens_generated_total", "counter", "Output tokens generated.", service.models.map((m) => [`{model=${JSON.stringify(m.manifest.modelId)}}`, service.engineFor(m.manifest.modelId).tokensGenerated]));
  return lines.join("\n") + "\n";
}
