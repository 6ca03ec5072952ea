require ["copy","enotify","vacation"];
/* c */ if header :contains "subject" "x" { redirect :copy "a@example.net"; }
notify :message "hi" "mailto:b@example.org?subject=x";
vacation :days 1 text:
line
..dot
.
;
discard;
