/**
 * Chat formatting. The project's GPT-2-shaped models have no special chat tokens, so messages
 * are rendered as plain "Role: content" lines; the manifest names the format so a validator
 * rebuilds exactly the same prompt.
 */
import { InvalidRequestError } from "../errors.ts";

export const DEFAULT_CHAT_FORMAT = "pod-plain-v1";

/** The same format as a Hugging Face chat template, written into tokenizer_config.json. */
export const CHAT_TEMPLATE_JINJA =
  "{% for message in messages %}{{ message['role'] | capitalize }}: {{ message['content'] }}\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}";

export type ChatRole = "system" | "user" | "assistant";
export type ChatMessage = { role: ChatRole; content: string };

export type FormattedChat = { prompt: string; stop: string[] };

export function formatChat(format: string, messages: readonly ChatMessage[]): FormattedChat {
  if (format !== DEFAULT_CHAT_FORMAT) throw new InvalidRequestError(`chat format "${format}" is not supported by this node`);
  if (messages.length === 0) throw new InvalidRequestError("messages must not be empty", "messages");
  const lines = messages.map((m) => `${m.role[0]!.toUpperCase()}${m.role.slice(1)}: ${m.content}\n`);
  // The model would otherwise go on to write the user's next turn.
  return { prompt: lines.join("") + "Assistant:", stop: ["\nUser:", "\nSystem:"] };
}
