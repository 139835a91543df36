"""Process models and their versions: deploying checked bundles, and reading what a version shows
people by language (process and group titles, element names, diagram labels, form labels, legal
basis). Look here for anything about a deployed model rather than a running instance of it."""
