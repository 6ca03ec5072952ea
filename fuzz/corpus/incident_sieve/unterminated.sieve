redirect "a@example.net";
redirect "b@exa