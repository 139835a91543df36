"""The sandbox worker: a separate Python process that evaluates diagram code for the server.

It is started from a fresh interpreter (never forked from the server), imports nothing of the
application but this package, and locks itself down after its start-up imports: resource limits,
an unprivileged user, Landlock and seccomp (`lockdown`). The server side (`app.engine.sandbox_pool`)
talks to it over its standard input and output (`protocol`).

The modules here import each other relatively and nothing else of the application, so that the
worker can import this folder as a top-level package without the server's code.
"""
