import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './free-port';

/** A real redis-server on 127.0.0.1, started per test file, that tests can stop, freeze and resume. */
export class RedisServer {
  private child?: ChildProcess;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.resume();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port, with nothing persisted. */
  async resume(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 5000;
    while ((await this.command('PING').catch(() => '')) !== '+PONG') {
      if (Date.now() > deadline) throw new Error('redis-server did not start: is it installed?');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops the server: connections are refused. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** Sends one inline command and returns the first line of the answer. */
  command(line: string): Promise<string> {
    return this.send(line, (answer) =>
      answer.includes('\r\n') ? answer.split('\r\n')[0] : undefined,
    );
  }

  /** The number of clients connected, from CLIENT LIST (this probe's own connection excluded). */
  async connectedClients(): Promise<number> {
    const list = await this.bulk('CLIENT LIST');
    return list.split('\n').filter((entry) => entry.includes('addr=')).length - 1;
  }

  /** INFO `section` as text (`total_reads_processed:123` lines); the probe's read is counted. */
  info(section: string): Promise<string> {
    return this.bulk(`INFO ${section}`);
  }

  /** Sends one inline command whose answer is a bulk string, and returns that string. */
  private bulk(line: string): Promise<string> {
    return this.send(line, (answer) => {
      const header = /^\$(\d+)\r\n/.exec(answer);
      return header && answer.length >= header[0].length + Number(header[1])
        ? answer.slice(header[0].length)
        : undefined;
    });
  }

  /** Sends one inline command; `complete` returns the answer once enough of it has arrived. */
  private send(line: string, complete: (answer: string) => string | undefined): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.port, '127.0.0.1');
      let answer = '';
      socket.setTimeout(1000, () => socket.destroy(new Error('redis timeout')));
      socket.on('connect', () => socket.write(`${line}\r\n`));
      socket.on('data', (chunk) => {
        answer += chunk.toString();
        const result = complete(answer);
        if (result !== undefined) {
          socket.end();
          resolve(result);
        }
      });
      socket.on('error', reject);
    });
  }
}
