/**
 * A progress bar on stderr, so stdout stays clean for the results table. On a terminal it
 * redraws one line; otherwise (CI logs, pipes) it prints one line per epoch.
 */
export function progressBar(totalSteps, stream = process.stderr) {
  const width = 30;
  let drawnAt = 0;
  return {
    /** Called every step; redraws at most ~10 times a second. */
    update(done, label) {
      if (!stream.isTTY) return;
      const now = Date.now();
      if (now - drawnAt < 100 && done < totalSteps) return;
      drawnAt = now;
      const filled = Math.round((width * done) / totalSteps);
      const percent = String(Math.floor((100 * done) / totalSteps)).padStart(3);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent}% ${label}`.padEnd(100));
    },
    /** A line that must stay visible, e.g. an epoch's result. */
    log(line) {
      stream.write(stream.isTTY ? `\r${line.padEnd(100)}\n` : `${line}\n`);
    },
  };
}
