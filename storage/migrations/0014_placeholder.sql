-- Placeholder so this branch's 0015 loads; dropped when the branches are merged.
SELECT 1;
