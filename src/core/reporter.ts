// Typed, coded messages from core to whoever shows them. Core code never writes to a console itself.
export type Level = 'error' | 'warn' | 'info' | 'debug';

export interface Message {
  level: Level;
  code: string;
  message: string;
  data?: unknown;
}

export interface Reporter {
  report(message: Message): void;
}

export const silentReporter: Reporter = { report() {} };

/** Collects messages; for tests and for JSON output. */
export class RecordingReporter implements Reporter {
  readonly messages: Message[] = [];
  report(message: Message): void {
    this.messages.push(message);
  }
}
