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
  /**
   * What the scenario set out to observe and could not, each in words with
   * why ("av_offset_ms: no flash/beep pair was found at the far end"). A
   * figure that was not observed is left out of `figures`, never printed as
   * 0 or a default; `fieldcast bench` prints these and exits non-zero.
   */
  unobserved?: string[];
}

export interface ScenarioOptions {
  /** Shorter runs for a quick look (`--quick`); figures say so. */
  quick: boolean;
  /** How many times a scenario that repeats its runs does so (`--runs N`); each has its default. */
  runs?: number;
  /** Where scenarios may write their working files. */
  workDir: string;
  signal: AbortSignal;
}

export interface Scenario {
  name: string;
  description: string;
  run(opts: ScenarioOptions): Promise<ScenarioResult>;
}

/**
 * Thrown by a scenario that cannot go on because what it measures never
 * happened (the far end received nothing, a peer never connected): `bench`
 * reports it as not observed and exits non-zero.
 */
export class NotObservedError extends Error {
  constructor(
    readonly figure: string,
    why: string,
  ) {
    super(`${figure}: ${why}`);
    this.name = 'NotObservedError';
  }
}

/**
 * Collects a scenario's figures and what it could not observe. `measured`
 * takes a value that may be missing (undefined, NaN, infinite) and, when it
 * is, records why instead of printing a number nobody saw.
 */
export class FigureSheet {
  readonly figures: Figure[] = [];
  readonly unobserved: string[] = [];

  /** A figure observed in this run. */
  add(name: string, value: number | string, unit?: string): this {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      this.unobserved.push(`${name}: not a finite number (${value})`);
      return this;
    }
    this.figures.push(unit === undefined ? { name, value } : { name, value, unit });
    return this;
  }

  /** A figure that may not have been observed; `why` says what was missing when it was not. */
  measured(name: string, value: number | undefined, unit: string | undefined, why: string): this {
    if (value === undefined || !Number.isFinite(value)) this.unobserved.push(`${name}: ${why}`);
    else this.add(name, value, unit);
    return this;
  }

  /** Records something the run could not observe, by name, with why. */
  missing(name: string, why: string): this {
    this.unobserved.push(`${name}: ${why}`);
    return this;
  }

  /** Reads a figure added before (for the verdict). */
  value(name: string): number | string | undefined {
    return this.figures.find((f) => f.name === name)?.value;
  }

  result(verdict: string): ScenarioResult {
    return { figures: this.figures, verdict, ...(this.unobserved.length ? { unobserved: this.unobserved } : {}) };
  }
}
