// citty colours its usage text even into pipes and files; keep escapes for terminals only.
// Imported before citty, which reads NO_COLOR once when it loads.
if (!process.stdout.isTTY) process.env.NO_COLOR ??= "1";
