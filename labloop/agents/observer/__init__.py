"""The LangGraph observer: capture -> measure -> describe -> validate -> persist -> detect -> alert -> next."""
