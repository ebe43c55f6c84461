/** Types for readme-figures.mjs, for the test that imports it. */
export declare const BEGIN: string;
export declare const END: string;
/** bench/results/latest.json, parsed. */
export declare function latestRun(): unknown;
export declare function resultsMarkdown(run: unknown): string;
export declare function readingMarkdown(run: unknown): string;
export declare function figuresSection(run: unknown): string;
export declare function withFigures(readme: string, run: unknown): string;
