/**
 * Stops with a message naming the package to install when an entry point's optional peer is
 * missing, instead of Node's bare "Cannot find module". Each subpath entry imports its own
 * `*.peer.ts` first, so that the check runs before the entry's `require` of the peer.
 */
export function ensurePeer(name: string, entry: string): void {
  try {
    require(name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    const missing =
      (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
      String((error as Error).message).includes(name);
    if (!missing) throw error;
    throw new Error(
      `${entry} needs the optional peer dependency ${name}, which is not installed: ` +
        `npm install ${name}`,
      { cause: error },
    );
  }
}
