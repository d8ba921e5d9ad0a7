#!/usr/bin/env python3
"""Copy the one host of a timeline.db under more host names, for measuring
cases of many hosts before each evidence root can be named on the command
line: syn30.py CASEDIR [N]. The host's artifacts, events and reassembled
scripts are copied under WS02..WSN (N defaults to 30) with ids moved out of
the way, and WS07 gets one extra start, WINWORD.EXE -> powershell.exe -enc,
for the fleet view to single out. Then run the analyzers and the report:
triage hunt or triage report on CASEDIR."""
import sqlite3
import sys

case = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 30
db = sqlite3.connect(case + "/timeline.db")
c = db.cursor()
(orig,) = c.execute("SELECT host FROM artifacts LIMIT 1").fetchone()
cols = lambda t: [r[1] for r in c.execute("PRAGMA table_info(%s)" % t)]
acols, ecols, scols = cols("artifacts"), cols("events"), [x for x in cols("scripts") if x != "id"]


def copy(table, columns, moved):
    sel = [moved.get(col, col) for col in columns]
    c.execute("INSERT INTO %s (%s) SELECT %s FROM %s WHERE host = ?" % (table, ",".join(columns), ",".join(sel), table), (orig,))


for k in range(2, n + 1):
    name, aoff, eoff = "'WS%02d'" % k, k * 100000, k * 10000000
    copy("artifacts", acols, {"id": "id+%d" % aoff, "host": name})
    copy("events", ecols, {"id": "id+%d" % eoff, "host": name, "artifact_id": "artifact_id+%d" % aoff})
    copy("scripts", scols, {"host": name, "event_ids": "(SELECT json_group_array(value+%d) FROM json_each(event_ids))" % eoff})
row = c.execute("SELECT %s FROM events WHERE host = 'WS07' AND event_id = 4688 ORDER BY id LIMIT 1" % ",".join(ecols)).fetchone()
if row:
    e = dict(zip(ecols, row))
    e.update(id=7 * 10000000 + 9999999, process=r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
             parent_process=r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
             command_line="powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA")
    c.execute("INSERT INTO events (%s) VALUES (%s)" % (",".join(ecols), ",".join("?" * len(ecols))), [e[x] for x in ecols])
db.commit()
print("%d hosts, %d events, %d artifacts" % (c.execute("SELECT count(DISTINCT host) FROM artifacts").fetchone()[0],
      c.execute("SELECT count(*) FROM events").fetchone()[0], c.execute("SELECT count(*) FROM artifacts").fetchone()[0]))
