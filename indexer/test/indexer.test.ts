/** The indexer's end-to-end suite (suite.ts) on embedded PGlite, in a fresh folder. */
import { indexerSuite } from "./suite.ts";

indexerSuite("PGlite", async () => ({ databaseUrl: undefined, stop: async () => undefined }));
