package sigma

// Correlation is a Sigma correlation rule.
type Correlation struct {
	Meta
	Path string
	Doc  int
}

func compileCorrelation(m *ymap, meta *Meta) (*Correlation, error) {
	return nil, refuse(ReasonCorrelation, m.get("correlation"), "correlation rules are not supported yet")
}
