/** An `ip` that keeps IPv4 rules and routes like the kernel does, for the source-routing tests. */
import { type IpCommand, type IpProcess, UplinkIpCommandError } from '../../../../src/uplinks/interfaces/index.js';

interface Rule {
  priority: number;
  src: string;
  table: string;
}
interface Route {
  dst: string;
  dev?: string;
  gateway?: string;
  table: string;
  metric?: number;
}

function fail(args: readonly string[], stderr: string): UplinkIpCommandError {
  return new UplinkIpCommandError(`"ip ${args.join(' ')}" failed: ${stderr}`, { args, stderr, exitCode: 2 });
}

function opt(args: readonly string[], word: string): string | undefined {
  const i = args.indexOf(word);
  return i >= 0 ? args[i + 1] : undefined;
}

export class FakeKernel implements IpCommand {
  readonly netns = undefined;
  readonly commands: string[] = [];
  rules: Rule[] = [
    { priority: 0, src: 'all', table: '255' },
    { priority: 32766, src: 'all', table: '254' },
    { priority: 32767, src: 'all', table: '253' },
  ];
  routes: Route[] = [];
  links = new Set<string>();
  /** Commands (joined) that fail with this stderr. */
  failing = new Map<string, string>();

  async run(args: readonly string[]): Promise<string> {
    const key = args.join(' ');
    if (key === '-4 -N -json rule show') return JSON.stringify([...this.rules].sort((a, b) => a.priority - b.priority));
    if (key === '-4 -N -json route show table all') {
      return JSON.stringify(this.routes.map((r) => ({ ...r, ...(r.table === '254' ? { table: undefined } : {}), flags: [] })));
    }
    this.commands.push(key);
    const failure = this.failing.get(key);
    if (failure !== undefined) throw fail(args, failure);
    const [obj, verb] = args;
    if (obj === 'rule') {
      const from = opt(args, 'from')!;
      const table = opt(args, 'lookup')!;
      const priority = Number(opt(args, 'priority'));
      const same = (r: Rule): boolean => r.priority === priority && r.src === from.replace(/\/32$/, '') && r.table === table;
      if (verb === 'add') {
        if (this.rules.some(same)) throw fail(args, 'RTNETLINK answers: File exists');
        this.rules.push({ priority, src: from, table });
      } else {
        const i = this.rules.findIndex(same);
        if (i < 0) throw fail(args, 'RTNETLINK answers: No such file or directory');
        this.rules.splice(i, 1);
      }
      return '';
    }
    const dst = args[2]!;
    const table = opt(args, 'table') ?? '254';
    const dev = opt(args, 'dev');
    const gateway = opt(args, 'via');
    if (verb === 'replace') {
      if (dev !== undefined && !this.links.has(dev)) throw fail(args, `Cannot find device "${dev}"`);
      const r: Route = { dst, table };
      if (dev !== undefined) r.dev = dev;
      if (gateway !== undefined) r.gateway = gateway;
      const i = this.routes.findIndex((x) => x.dst === dst && x.table === table && (x.metric ?? 0) === 0);
      if (i >= 0) this.routes[i] = r;
      else this.routes.push(r);
      return '';
    }
    const metric = Number(opt(args, 'metric') ?? 0);
    const i = this.routes.findIndex(
      (x) =>
        x.dst === dst &&
        x.table === table &&
        (x.metric ?? 0) === metric &&
        (dev === undefined || x.dev === dev) &&
        (gateway === undefined || x.gateway === gateway),
    );
    if (i < 0) throw fail(args, 'RTNETLINK answers: No such process');
    this.routes.splice(i, 1);
    return '';
  }

  /** The kernel drops a link's routes with it; its rules stay. */
  removeLink(name: string): void {
    this.links.delete(name);
    this.routes = this.routes.filter((r) => r.dev !== name);
  }

  spawn(): IpProcess {
    throw new Error('not used');
  }

  ownedRules(): string[] {
    return this.rules
      .filter((r) => Number(r.table) >= 100 && Number(r.table) < 200)
      .map((r) => `${r.priority} from ${r.src} lookup ${r.table}`);
  }
}
