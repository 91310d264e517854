/**
 * Test certificates made with `openssl` into a fresh temp dir, once per test
 * process: a CA, a server certificate for 127.0.0.1/localhost signed by it
 * (and a second one, for reload tests), and one for another host name.
 * Keys are P-256 (fast to make: the whole set takes well under a second).
 *
 * @example
 * ```ts
 * const certs = makeTestCerts();
 * // certs.ca, certs.server.cert, certs.server.key, certs.wrongHost.cert ...
 * ```
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and its key, as file paths. */
export interface CertPair {
  cert: string;
  key: string;
  /** The certificate's serial-free fingerprint subject, for telling pairs apart. */
  commonName: string;
}

/** Every file a TLS test needs. */
export interface TestCerts {
  dir: string;
  /** The CA certificate (PEM file path). */
  ca: string;
  /** For 127.0.0.1 and localhost, CN `tcpchat-test-1`. */
  server: CertPair;
  /** Also for 127.0.0.1 and localhost, CN `tcpchat-test-2`: the one a reload swaps in. */
  server2: CertPair;
  /** For `other.example` only: a client checking 127.0.0.1 must refuse it. */
  wrongHost: CertPair;
}

let made: TestCerts | undefined;

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function signed(dir: string, name: string, commonName: string, altNames: string): CertPair {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `subjectAltName=${altNames}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
  openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
  openssl(dir, ["req", "-new", "-key", key, "-subj", `/CN=${commonName}`, "-out", csr]);
  openssl(dir, [
    "x509", "-req", "-in", csr, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
    "-days", "2", "-sha256", "-extfile", ext, "-out", cert,
  ]);
  return { cert, key, commonName };
}

/** Makes (once per process) and returns the test certificates. */
export function makeTestCerts(): TestCerts {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-tls-"));
  openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"]);
  openssl(dir, [
    "req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=tcpchat test CA", "-days", "2", "-sha256",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-out", "ca.crt",
  ]);
  const local = "IP:127.0.0.1,DNS:localhost";
  made = {
    dir,
    ca: join(dir, "ca.crt"),
    server: signed(dir, "server", "tcpchat-test-1", local),
    server2: signed(dir, "server2", "tcpchat-test-2", local),
    wrongHost: signed(dir, "wrong", "other.example", "DNS:other.example"),
  };
  return made;
}

/** The PEM text of a file. */
export function pem(path: string): string {
  return readFileSync(path, "utf8");
}
