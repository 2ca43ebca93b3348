"""The period figures supervisors watch (SPEC section 6), one module per job.

- `basics`: thresholds, the report's scope, the Beijing day, percentiles;
- `rows`: the named row sets and each figure's definition as conditions on them;
- `sums`: sums from the raw rows per Beijing day (what the stored aggregates hold);
- `coverage`: adding up a period from stored days and freshly computed ranges;
- `figures`: `period_metrics`, the one entry point, and the figures built from the sums
  (its docstring says what each figure counts).
"""
