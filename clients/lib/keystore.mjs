// A self-signed certificate for 127.0.0.1, made with the JDK's keytool as an operator would:
// the PKCS12 keystore for the guard's HTTPS connector and the PEM certificate that clients trust
// through NODE_EXTRA_CA_CERTS.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

function keytool() {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'keytool') : 'keytool';
}

/** Writes guard.p12 and guard-cert.pem into dir; returns their paths and the keystore password. */
export function makeKeystore(dir) {
  const keystore = join(dir, 'guard.p12');
  const certificate = join(dir, 'guard-cert.pem');
  const password = randomBytes(12).toString('hex');
  const store = ['-keystore', keystore, '-storetype', 'PKCS12', '-storepass', password];
  execFileSync(keytool(), ['-genkeypair', '-alias', 'guard', '-keyalg', 'EC', '-groupname', 'secp256r1',
    '-validity', '2', '-dname', 'CN=127.0.0.1', '-ext', 'SAN=ip:127.0.0.1,dns:localhost',
    '-keypass', password, ...store], { stdio: 'pipe' });
  execFileSync(keytool(), ['-exportcert', '-rfc', '-alias', 'guard', '-file', certificate, ...store], { stdio: 'pipe' });
  return { keystore, certificate, password };
}
