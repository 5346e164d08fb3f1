/**
 * The validator's HTTP routes: per-node status, Prometheus figures and the invalidations the
 * oracles read (`GET /invalidations?epoch=N`). Serve with cosign/server.ts serveOracle (127.0.0.1).
 */
import { Hono } from "hono";
import { invalidationsRoutes } from "./invalidations.ts";
import type { ValidatorService } from "./service.ts";

export function createValidatorServer(service: ValidatorService, dataDir: string): Hono {
  const app = new Hono();
  app.get("/status", (c) => c.json(service.status()));
  app.get("/metrics", async (c) => c.body(await service.metrics.text(), 200, { "content-type": service.metrics.registry.contentType }));
  app.route("/", invalidationsRoutes(dataDir));
  app.notFound((c) => c.json({ error: "no such route" }, 404));
  app.onError((error, c) => {
    console.error(`validator server: ${c.req.method} ${c.req.path}:`, error);
    return c.json({ error: "the validator failed to answer" }, 500);
  });
  return app;
}
