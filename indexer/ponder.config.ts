// Ponder's generated ponder-env.d.ts looks for the config beside it; the real one is at the repository root.
export { default } from "../ponder.config.ts";
