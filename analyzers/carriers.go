package analyzers

// carriedPowerShell decodes a PowerShell payload that a command line,
// service image path, task action or WMI consumer carries: an
// -EncodedCommand argument, or a FromBase64String literal (gzip or raw
// deflate streams inflated).
func carriedPowerShell(text string) (string, bool) {
	if m := encodedFlag.FindStringSubmatch(text); m != nil {
		if decoded, ok := decodeUTF16Base64(m[1]); ok {
			if inner, ok := carriedPowerShell(decoded); ok {
				return decoded + "\n\n" + inner, true
			}
			return decoded, true
		}
	}
	if m := inlinePayload.FindStringSubmatch(text); m != nil {
		if decoded, ok := decodePayload(m[1]); ok {
			return decoded, true
		}
	}
	return "", false
}
