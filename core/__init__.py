"""Small helpers every app may import: API errors, request limits, compiled queries, log and
spreadsheet safety, the role kernel and the one province-scope rule. Imports no app."""
