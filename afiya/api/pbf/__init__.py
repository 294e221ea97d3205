"""PBF routes: programmes and rules, the verification workflow, computations and exports."""
