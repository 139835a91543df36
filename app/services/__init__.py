"""The use cases: each runs in one transaction (a UnitOfWork) and writes one audit record per state
change. They are grouped by capability:

- modelling/   deploying process models, and what pages show of a model version (titles, labels, forms)
- running/     process instances: starting and storing them, their steps, messages and attachments
- work/        human tasks: the inbox, claiming and completing, form validation, who may take a task
- time/        timers and timer start events, the working-day calendar, the Deputy Chairmen's rotation
- people/      users, groups and memberships, sign-in and tokens, each user's language
- operations/  demo data and the sandbox's status for administrators
- uow.py, context.py, audit.py (here): the unit of work, what every use case is given, the audit log
"""
