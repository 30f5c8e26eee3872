// Preflight: portico check, see DESIGN.md.
