// VRRPCore: see DESIGN.md for the module's role.
