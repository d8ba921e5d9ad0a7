#!/bin/sh
# t1059-recall.sh TRIAGE_BINARY [FILE_OR_FOLDER...]: runs triage on each
# evidence file or folder alone and prints, per file, whether it holds
# interpreter activity and whether a specific T1059 finding was given, then
# the recall (files with a specific finding / files with activity).
# A specific finding is any T1059 finding except "first seen", "outside
# business hours" and Windows' own 4104 Warning flag passed through.
# Interpreter activity: a process event whose image or parent is an
# interpreter, a PowerShell log record, a service running a shell, a
# PSReadLine history or batch file.
# Default evidence: the shared attack and PowerShell recordings.
set -eu
bin=$1; shift
[ $# -gt 0 ] || set -- ../shared/corpus/evtx/attack ../shared/corpus/evtx/powershell
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
active=0 specific=0
list() { for a in "$@"; do if [ -d "$a" ] && ! [ -d "$a/C" ]; then find "$a" -name '*.evtx' | sort; else echo "$a"; fi; done; }
list "$@" > "$tmp/files"
while IFS= read -r f; do
	rm -rf "$tmp/out"
	"$bin" run --out "$tmp/out" --report-time 2024-01-01T00:00:00Z "$f" >/dev/null 2>&1 || true
	db="$tmp/out/timeline.db"
	[ -f "$db" ] || { echo "no-timeline | $f"; continue; }
	act=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE
		(source='evtx' AND ((provider='Microsoft-Windows-Security-Auditing' AND event_id IN (4688,4689)) OR (provider='Microsoft-Windows-Sysmon' AND event_id=1))
		  AND EXISTS (SELECT 1 FROM (SELECT lower(process) AS p UNION SELECT lower(parent_process)) WHERE p GLOB '*\\powershell.exe'
		    OR p GLOB '*\\pwsh.exe' OR p GLOB '*\\cmd.exe' OR p GLOB '*script.exe' OR p GLOB '*\\mshta.exe' OR p GLOB '*\\python*.exe'
		    OR p GLOB '*\\wsl.exe' OR p GLOB '*\\bash.exe' OR p GLOB '*\\node.exe'))
		OR (source='evtx' AND provider IN ('PowerShell','Microsoft-Windows-PowerShell') AND event_id IN (400,403,800,4103,4104))
		OR (source='evtx' AND provider='Service Control Manager' AND event_id=7045 AND (lower(data) LIKE '%cmd%' OR lower(data) LIKE '%powershell%'))
		OR source IN ('history','batch')")
	spec=$(sqlite3 "$db" "SELECT count(*) FROM findings WHERE technique_id LIKE 'T1059%'
		AND title NOT LIKE '%first seen on%' AND title NOT LIKE '%outside business hours%'
		AND title NOT LIKE 'Script block Windows logged as suspicious%'")
	if [ "$act" -gt 0 ]; then
		active=$((active+1))
		if [ "$spec" -gt 0 ]; then specific=$((specific+1)); echo "hit  | $f"; else echo "MISS | $f"; fi
	else
		echo "none | $f (specific findings: $spec)"
	fi
done < "$tmp/files"
echo "recall: $specific / $active files with interpreter activity"
