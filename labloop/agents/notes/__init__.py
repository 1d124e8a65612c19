"""Lab notes and reflections written from the records (by a language model or by templates), every number
checked against the records before anything is saved."""
