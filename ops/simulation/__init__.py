"""A traffic simulator that drives a running CX Console through its public interfaces.

`model` holds the seedable traffic model (pure: no Django, no network), `report` turns what a
run recorded into figures, `driver` plays the shoppers and agents over HTTP and the websocket,
`server` starts an embedded instance on a fresh database (for `make demo` and `--compare`).
"""
