require ["fileinto", "reject", "tag", "flag", "variables", "log", "enotify"];

# Invoices
if allof (header :contains ["subject"] "invoice") {
    redirect "collector@example.net";
    stop;
}
# Newsletters
if anyof (header :contains ["from"] "news") {
    fileinto "Newsletters";
}
