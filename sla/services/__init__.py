"""Writes of the SLA engine, one module per job.

- `timers`: clocks started and stopped by the order's life-cycle events, pauses, appointments;
- `scan`: the scanner's pass (breaches, at-risk warnings, escalation), set-based;
- `breaches`: recording, e-mail and acknowledgement of breaches;
- `notifications`: in-app notifications;
- `rules`: revising rules and loading the holiday table.

The SLA engine decides and writes its own tables; every write to a work order (its fields,
its timeline) is in `tickets.services`, which calls these. The deadline arithmetic is pure
and lives in `sla.policy`.
"""
