/**
 * The server's TLS listener (`tls_listen`, `tls_cert`, `tls_key`): reads the
 * PEM files through the runtime layer, listens, and on a reload reads them
 * again and swaps the pair for new connections. A pair that cannot be read
 * or does not match is logged and the one in use is kept.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import { log } from "../ops/log.ts";
import type { CertificatePair, NetAddr, Runtime, TlsListener } from "../runtime/types.ts";

const logger = log("tls");

/** A certificate pair that cannot be used, with which file and why; `code` is stable. */
export class TlsPairError extends Error {
  /** Stable code for scripts and logs. */
  readonly code = "bad_certificate";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Reads both files named by the settings; throws {@linkcode TlsPairError} naming the file that failed. */
export async function readCertificatePair(
  runtime: Pick<Runtime, "readTextFile">,
  settings: Pick<Settings, "tls_cert" | "tls_key">,
): Promise<CertificatePair> {
  const read = async (setting: "tls_cert" | "tls_key") => {
    try {
      return await runtime.readTextFile(settings[setting]);
    } catch (error) {
      throw new TlsPairError(`${setting} ${settings[setting]}: cannot read: ${(error as Error).message}`, { cause: error });
    }
  };
  return { cert: await read("tls_cert"), key: await read("tls_key") };
}

/** `host:port` from a `tls_listen` value (validated by the settings table). */
function parseHostPort(value: string): { hostname: string; port: number } {
  const colon = value.lastIndexOf(":");
  return { hostname: value.slice(0, colon).replace(/^\[|\]$/g, ""), port: Number(value.slice(colon + 1)) };
}

/** A running TLS listener and the files it was made from. */
export class TlsEndpoint {
  private constructor(
    readonly listener: TlsListener,
    readonly runtime: Runtime,
    readonly settings: Settings,
  ) {}

  /**
   * Reads the pair and listens on `tls_listen`. Throws {@linkcode TlsPairError}
   * for a bad pair, or the runtime's listen error (e.g. `address_in_use`).
   */
  static async start(runtime: Runtime, settings: Settings): Promise<TlsEndpoint> {
    const pair = await readCertificatePair(runtime, settings);
    let listener: TlsListener;
    try {
      listener = await runtime.listenTls({ ...parseHostPort(settings.tls_listen), ...pair });
    } catch (error) {
      if ((error as { code?: string }).code === "bad_certificate") {
        throw new TlsPairError(`tls_cert ${settings.tls_cert} / tls_key ${settings.tls_key}: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    }
    return new TlsEndpoint(listener, runtime, settings);
  }

  /** The bound address, with the real port. */
  get addr(): NetAddr {
    return this.listener.addr;
  }

  /**
   * Reads `tls_cert` and `tls_key` again (their current paths: a reload may
   * have changed them) and serves new connections with that pair. On any
   * problem logs it and keeps the pair in use. Resolves with whether the new
   * pair is in use.
   */
  async reload(): Promise<boolean> {
    try {
      const pair = await readCertificatePair(this.runtime, this.settings);
      this.listener.setCertificate(pair);
    } catch (error) {
      logger.error("TLS certificate reload failed, still serving the previous pair: {error}", {
        error: (error as Error).message,
        cert: this.settings.tls_cert,
        key: this.settings.tls_key,
      });
      return false;
    }
    logger.info("TLS certificate reloaded from {cert}", { cert: this.settings.tls_cert, key: this.settings.tls_key });
    return true;
  }

  /** Stops accepting TLS connections. */
  close(): void {
    this.listener.close();
  }
}
