CREATE TABLE a (x text DEFAULT 'a;b');
DO $$ BEGIN PERFORM 1; END $$;
-- c;
/* d; /* e */ */ SELECT E'\';
SELECT $tag$ $$ $tag$, "q;""", $1, a$b