/** Types for the parts of report.mjs a test imports. */
export declare function mainImpls<T extends { section?: string }>(impls: T[]): T[];
export declare function trainingLoopTable(results: Record<string, Record<string, { nsPerParam?: number; skipped?: string }>>, impls: { id: string; label: string; section?: string; base?: string; target?: number }[]): string;
