/**
 * A minimal SMTP server on 127.0.0.1 that accepts every message and keeps it, so a test can read the e-mail an
 * n8n Send Email node sent (plain SMTP, no TLS, no login).
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';

export interface ReceivedMail {
	from: string;
	to: string[];
	/** Headers and body as sent (RFC 5322 text). */
	data: string;
}

/** The decoded Subject header and text body of a plain-text mail (quoted-printable or base64, as nodemailer chooses). */
export function readMail(mail: ReceivedMail): { subject: string; text: string } {
	const [head, ...rest] = mail.data.split('\n\n');
	const unfolded = head.replace(/\n[ \t]+/g, ' ');
	const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(unfolded)?.[1] ?? '';
	const subject = header('Subject').replace(/=\?UTF-8\?([QB])\?([^?]*)\?=\s*/gi, (_all, kind: string, text: string) =>
		kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : quotedPrintable(text.replace(/_/g, ' ')),
	);
	const body = rest.join('\n\n').replace(/\n$/, '');
	const encoding = header('Content-Transfer-Encoding').toLowerCase();
	const text = encoding === 'base64' ? Buffer.from(body, 'base64').toString('utf8') : encoding === 'quoted-printable' ? quotedPrintable(body) : body;
	return { subject, text: text.replace(/\r\n/g, '\n') };
}

function quotedPrintable(text: string): string {
	return decodeURIComponent(text.replace(/=\n/g, '').replace(/%/g, '%25').replace(/=([0-9A-F]{2})/gi, '%$1'));
}

export class SmtpSink {
	readonly received: ReceivedMail[] = [];
	private server?: Server;

	async start(): Promise<number> {
		this.server = createServer((socket) => {
			socket.setEncoding('utf8');
			let buffer = '';
			let mail: ReceivedMail = { from: '', to: [], data: '' };
			let inData = false;
			const reply = (line: string) => socket.write(`${line}\r\n`);
			reply('220 sink ESMTP');
			socket.on('data', (chunk: string) => {
				buffer += chunk;
				for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
					const line = buffer.slice(0, end);
					buffer = buffer.slice(end + 2);
					if (inData) {
						if (line === '.') {
							inData = false;
							this.received.push(mail);
							mail = { from: '', to: [], data: '' };
							reply('250 queued');
						} else mail.data += `${line.startsWith('..') ? line.slice(1) : line}\n`;
						continue;
					}
					const command = line.slice(0, 4).toUpperCase();
					if (command === 'MAIL') mail.from = line.slice(10).trim();
					if (command === 'RCPT') mail.to.push(line.slice(8).trim());
					if (command === 'DATA') {
						inData = true;
						reply('354 go on');
					} else if (command === 'QUIT') {
						reply('221 bye');
						socket.end();
					} else reply('250 ok');
				}
			});
		});
		await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
		return (this.server.address() as AddressInfo).port;
	}

	async stop(): Promise<void> {
		await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
	}
}
