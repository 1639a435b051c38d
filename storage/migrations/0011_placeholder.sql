-- Placeholder for issue 18's first-run and sessions migration (a18setup); dropped at merge.
SELECT 1;
