/** A benchmark scenario and the figures it prints (BENCHMARKS.md). */

export interface Figure {
  name: string;
  value: number | string;
  unit?: string;
}

export interface ScenarioResult {
  figures: Figure[];
  /** One line: what held and what did not, against the goal. */
  verdict: string;
}

export interface ScenarioOptions {
  /** Shorter runs for a quick look (`--quick`); figures say so. */
  quick: boolean;
  /** Where scenarios may write their working files. */
  workDir: string;
  signal: AbortSignal;
}

export interface Scenario {
  name: string;
  description: string;
  run(opts: ScenarioOptions): Promise<ScenarioResult>;
}
