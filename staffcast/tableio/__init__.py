"""The one table reader: every CSV or Parquet input file of staffcast is opened here
(`staffcast.tableio.reader`; its error class is `staffcast.tableio.errors.TableError`).

`forecast/` and `scheduler/` (installed as `staffcast.forecasting` and
`staffcast.scheduler`) may not import each other nor the library layer, so this small
package imports nothing of the project (tests/test_architecture.py checks it) and is the
one thing outside themselves both may import (`from ..tableio import ...`). It owns what every table shares:

- reading (`read_table`): the file must exist; CSV is UTF-8 (a byte-order mark is
  skipped), read with every cell as text and blanks as "" (so a loader sees exactly what
  the file holds and names the cell it rejects), Parquet where the loader accepts it;
- vendor column names (`parse_column_map`, `columns=` of `read_table`): a file's own
  names mapped onto the contract's (a mapped name the file lacks is an error naming both);
- where a row is (`position`, `row_numbers`, `bad_values`): CSV line (header = line 1)
  for CSV files, 1-based data row for Parquet files and frames;
- timestamps (`parse_timestamps`, the time-zone hook: naive wall-clock time, offset-aware
  values converted to a given IANA zone (`check_timezone`), mixed offsets and day-first
  dates refused with their rows).

Every error is one line naming the file, the row or line, the column, the rule and the
value, raised as the caller's error class (`error=`), so each package keeps its own.
"""
