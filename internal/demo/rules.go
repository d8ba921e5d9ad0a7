package demo

import (
	"fmt"
	"os"
	"path/filepath"
)

// Rules are the demo's Sigma rules, written for it: `triage demo` runs
// them with --sigma so that the report shows the Sigma section as a run
// with a rule set would. They are ordinary Sigma 2 documents, one of each
// common shape: a selection with modifiers, a selection with a filter, and
// a correlation over another rule.
var Rules = map[string]string{
	"office_child_shell.yml": `title: Office application starts a shell (triage demo)
id: 6f1d8a52-3c4e-4a7b-9d21-0c5e7f3a9b10
status: test
level: high
description: Word, Excel or PowerPoint started cmd.exe or PowerShell, as a document's macro does.
author: triage demo
references:
    - https://attack.mitre.org/techniques/T1204/002/
tags:
    - attack.execution
    - attack.t1059.003
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        ParentImage|endswith:
            - '\WINWORD.EXE'
            - '\EXCEL.EXE'
            - '\POWERPNT.EXE'
        Image|endswith:
            - '\cmd.exe'
            - '\powershell.exe'
    condition: selection
`,
	"encoded_powershell.yml": `title: PowerShell with an encoded command (triage demo)
id: 0b7e4c9d-58a1-4f36-8e2b-71d90c4a6f25
status: test
level: medium
description: PowerShell started with -EncodedCommand in any abbreviation, outside the administrator's own sessions.
author: triage demo
tags:
    - attack.execution
    - attack.t1059.001
    - attack.t1027
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\powershell.exe'
        CommandLine|contains|windash: ' -enc '
    filter_admin:
        User|endswith: '\itadmin'
    condition: selection and not filter_admin
`,
	"encoded_powershell_repeated.yml": `title: Encoded PowerShell more than once on a host (triage demo)
id: 3d2a6e81-9f4b-4c07-b5d3-a8e1f0c27d64
status: test
level: high
description: The encoded PowerShell rule matched at least two records on one host within a day.
author: triage demo
tags:
    - attack.execution
    - attack.t1059.001
correlation:
    type: event_count
    generate: true
    rules:
        - 0b7e4c9d-58a1-4f36-8e2b-71d90c4a6f25
    group-by:
        - Computer
    timespan: 24h
    condition:
        gte: 2
`,
}

// WriteRules writes Rules into dir, which must not exist yet.
func WriteRules(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("demo: %s already exists", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, text := range Rules {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
		if err := os.Chtimes(filepath.Join(dir, name), collected, collected); err != nil {
			return err
		}
	}
	return nil
}
