-- Placeholder so this branch's 0013 loads; dropped when the branches are merged.
SELECT 1;
