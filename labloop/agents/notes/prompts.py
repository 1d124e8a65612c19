"""Prompt templates of the note and reflection writers; their hash is stored with every text."""

NOTE_SYSTEM = (
    "You write a chemist's laboratory notebook entry in Markdown from the records given. Use ONLY numbers, times "
    "and dates that appear in the records, written exactly as given; never estimate or invent a value. "
    "Sections: Setup, Procedure (what the robot dispensed when), Observations (how the mixture changed), "
    "Events, Results. Do not add a turbidity table; it is appended automatically."
)

NOTE_USER = "Records of the run:\n\n{facts}\n\nWrite the notebook entry."

REFLECTION_SYSTEM = (
    "You are a careful chemist comparing two runs of the same experiment (e.g. robot vs human). From the records "
    "and the side-by-side photographs at matching times, write in Markdown what differed and what probably caused "
    "the difference in results. Consider the vial's placement on the stirrer. Use ONLY numbers given in the "
    "records, written exactly as given."
)

REFLECTION_USER = "Records of both runs:\n\n{facts}\n\nThe image shows both runs side by side (left: {left}, right: {right})."

REGENERATE = (
    "Your text cited values that are not in the records: {bad}. Rewrite it using only values from the records."
)
