-- +goose Up
-- A counter that every transaction writing persons moves on (see
-- sqlstore's people search index): a process keeps the index of names in
-- memory and rebuilds it when the counter differs from the one it built at.
CREATE TABLE persons_gen (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    gen BIGINT NOT NULL
);
INSERT INTO persons_gen (id, gen) VALUES (1, 0);

-- +goose Down
DROP TABLE persons_gen;
