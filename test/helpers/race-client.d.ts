import type { Agent } from 'node:http';

export function judgeRacedAnswer(status: number, body: Buffer, rule: { expected: Buffer; canary: string; acceptSuffix?: boolean }): string;

export function requestRaced(options: {
  port: number;
  path: string;
  agent: Agent;
  expected: Buffer;
  canary: string;
  hungMs: number;
  acceptSuffix?: boolean;
}): Promise<string>;
