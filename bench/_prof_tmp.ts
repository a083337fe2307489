import { performance } from 'node:perf_hooks';
const PROSE = `The deployment failed again last night after the migration ran. Our on-call engineer traced it to
the connection pool: the retry loop opened a new socket for every attempt and never released the old ones.
`;
const CODE = `export async function fetchWithRetry(url: string, attempts = 3): Promise<Response> {
  const tokenizer = getTokenizer(config.model);
  const pageSize = 1024; const timeoutMs = 30000; // 2024-11-05 12:30:00
}
`;
const SENSITIVE = `Contact jane.doe@example.com or +44 20 7946 0958 about invoice 2024-117.
config: DB_HOST=10.0.12.7 api_key = "Zx8k2LqP9vRt4Wm7Yb3N" card 4111 1111 1111 1111
`;
let s=''; let i=0; while (s.length<102400){ s+= i%3===2?CODE:PROSE; if(i%10===5) s+=SENSITIVE; i++; }
const res: Record<string, RegExp> = {
 card: /\b\d(?:[ -]?\d){12,18}\b/g,
 ssn: /\b(\d{3})([- ])(\d{2})\2(\d{4})\b/g,
 ipv4: /\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b/g,
 phone: /(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,5}|\(\d{3}\) ?\d{3}[-. ]\d{4}|\b\d{3}[-.]\d{3}[-.]\d{4}|\b0\d{1,4}(?:[ ./-]\d{2,8}){1,4})(?![\d.]\d)/g,
 iban: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g,
 prefixed: /(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])|gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244}|sk-ant-[A-Za-z0-9_-]{32,}|sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
 assign: /(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?)[\w.-]{0,40}\\?["']?\s*(?:=>|:=|[:=])\s*\\?["']?([^\s"'`,;(){}[\]<>\\]{8,512})/gi,
 deny: /\bproject\s+nightingale\b/i,
};
for (const [k, re] of Object.entries(res)) {
  const t:number[]=[];
  for (let n=0;n<300;n++){ const t0=process.cpuUsage(); const p0=performance.now(); let c=0; if (re.global) { for (const m of s.matchAll(re)) c++; } else re.test(s); t.push(performance.now()-p0); }
  t.sort((a,b)=>a-b); console.log(k.padEnd(10), t[150]!.toFixed(3));
}
