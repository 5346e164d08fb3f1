/**
 * The epoch report format lives in the SDK (sdk/src/epochReport.ts), shared with the indexer;
 * this module keeps the oracle's older import path working for the validator.
 */
export { parseEpochReport, serializeEpochReport, epochReportHash, diffReports, describeReportDiff } from "../../../sdk/src/epochReport.ts";
export type { EpochReport, ReportAccount, ReportParams, ReportReceipts, ReportDiff } from "../../../sdk/src/epochReport.ts";
