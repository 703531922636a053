/** The status page's only style sheet, inlined: no external assets, readable without JS, printable. */
export const PAGE_STYLE = `
:root{--fg:#1d2430;--muted:#5b6675;--line:#d9dee5;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:#f6f8fa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
header p,small{color:var(--muted)}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace}
a{color:#0969da}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);background:#eef1f4}
tr.env th{background:#f0f3f6;font-size:13px}
.summary{display:inline-block;margin-top:8px;padding:4px 10px;border-radius:6px;font-weight:600}
.summary-ok{background:#dafbe1;color:var(--ok)}.summary-drift{background:#ffebe9;color:var(--bad)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.badge-in-sync{background:#dafbe1;color:var(--ok)}
.badge-drifted{background:#fff1c2;color:var(--warn)}
.badge-missing,.badge-error{background:#ffebe9;color:var(--bad)}
.badge-unreachable{background:#e8e8ec;color:#57606a;border:1px dashed #8c959f}
.badge-held{background:#fbefff;color:#8250df}
tr.row-held td:first-child{box-shadow:inset 4px 0 #8250df}
.badge-reason{background:#ddf4ff;color:#0550ae;font-weight:500}
tr.problem td{font-weight:500}
tr.row-drifted td{background:#fff8dc}tr.row-drifted td:first-child{box-shadow:inset 4px 0 var(--warn)}
tr.row-missing td,tr.row-error td{background:#fff0ef}tr.row-missing td:first-child,tr.row-error td:first-child{box-shadow:inset 4px 0 var(--bad)}
tr.row-unreachable td{background:repeating-linear-gradient(135deg,#f4f4f6 0 8px,#ececf0 8px 16px)}tr.row-unreachable td:first-child{box-shadow:inset 4px 0 #8c959f}
.detail{color:var(--muted);max-width:420px;overflow-wrap:anywhere}
.trailer{margin-right:10px;white-space:nowrap}
.when{white-space:nowrap}
.notice{padding:8px 12px;border:1px solid var(--line);border-radius:6px;background:#fff}
.notice.bad{border-color:var(--bad);color:var(--bad)}
`;
