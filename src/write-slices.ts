import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

/**
 * How a body held in memory goes to the socket: in one write call, or in
 * slices of at most this many bytes, each its own call, when TCP paces.
 *
 * Linux's BBR congestion control paces what a socket sends. Of one large write
 * it sends the first segment at once and holds the rest for a pacing timer,
 * even on loopback, so the rest goes out from timer interrupts and softirqs on
 * the server's CPU. Writes that each fit one segment (64 KiB on loopback, less
 * the headers) go out as they are made. Measured on loopback with BBR, a
 * 135 KiB file in 48 KiB writes was served at 1.7 to 1.9 times the rate of one
 * write; 32 KiB writes gained less, and 60 KiB writes the same. With CUBIC (Linux's
 * default, no pacing) the same slices cost 10 to 25%, so there the body goes
 * out whole. Streamed files keep their large writes under BBR too: 32 KiB
 * slices of those lowered the 100 MiB file's rate.
 */
export const PACED_WRITE_SLICE = 48 * 1024;

/** The write slice for a congestion control algorithm, by its name (as in /proc/sys/net/ipv4/tcp_congestion_control). */
export function writeSliceFor(congestionControl: string | undefined): number {
  // bbr, and the bbr2 and bbr3 of patched kernels, pace; the others in Linux do not.
  return congestionControl !== undefined && /^bbr\d*$/.test(congestionControl.trim()) ? PACED_WRITE_SLICE : Infinity;
}

let systemSlice: number | undefined;

/**
 * The write slice for this machine: from the congestion control new TCP
 * sockets get, read once. Elsewhere than Linux, and where it cannot be read,
 * bodies go out whole.
 */
export function systemWriteSlice(): number {
  if (systemSlice === undefined) {
    let name: string | undefined;
    try {
      name = readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'latin1');
    } catch {
      name = undefined;
    }
    systemSlice = writeSliceFor(name);
  }
  return systemSlice;
}

/** End the response with `body`, in write calls of at most `slice` bytes each. */
export function endWithSlices(res: ServerResponse, body: Buffer, slice: number): void {
  let offset = 0;
  // A pipelined response waiting its turn has no socket yet: its slices queue in order.
  const socket = res.socket;
  for (; body.length - offset > slice; offset += slice) {
    const corked = socket?.writableCorked ?? 0;
    res.write(body.subarray(offset, offset + slice));
    // node:http corks the socket on a write until the next tick, which would gather the
    // slices into one call again. Undoing that cork (and no one else's) hands this slice
    // over by itself.
    if (socket && socket.writableCorked > corked) socket.uncork();
  }
  res.end(offset === 0 ? body : body.subarray(offset));
}
