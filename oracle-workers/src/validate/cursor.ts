/** The sample source's cursor, kept in the data folder so that a restart resumes after the last page. */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { CursorStore } from "./service.ts";

export class CursorFileError extends Error {
  override name = "CursorFileError";
}

/** `<dataDir>/<name>`: `{ "after": "<cursor>" }`, replaced atomically (temporary file, rename). */
export class FileCursor implements CursorStore {
  readonly path: string;
  private readonly dir: string;

  constructor(dataDir: string, name = "samples-cursor.json") {
    this.dir = dataDir;
    this.path = join(dataDir, name);
  }

  async load(): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    const raw = JSON.parse(text) as unknown;
    const after = typeof raw === "object" && raw !== null ? (raw as { after?: unknown }).after : undefined;
    if (typeof after !== "string") throw new CursorFileError(`${this.path}: "after" must be a string`);
    return after;
  }

  async save(cursor: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.path}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(tmp, `${JSON.stringify({ after: cursor })}\n`, "utf8");
    await rename(tmp, this.path);
  }
}
