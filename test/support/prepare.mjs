// Brings a fresh clone to a tested state with nothing but Node and npm: installs the locked dependencies
// when they are missing or older than the lock file, then builds the package (nodes, credentials, tests).
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = (command) => execSync(command, { cwd: root, stdio: 'inherit' });
const installedMarker = path.join(root, 'node_modules/.package-lock.json');
const lockFile = path.join(root, 'package-lock.json');

if (!existsSync(installedMarker) || statSync(installedMarker).mtimeMs < statSync(lockFile).mtimeMs) {
	run('npm ci --no-audit --no-fund');
}
run('npm run build --silent');
