"""Human tasks: the inbox and saved filters, claiming, assigning and completing a task, validating
its form, who may take it, and what became of a task that can no longer be completed."""
