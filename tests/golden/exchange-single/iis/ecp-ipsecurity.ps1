# mailwarden: IIS IP restriction of the Exchange admin center (Default Web Site/ecp) on
#   mail.example.com
# Generated from examples/exchange-single.toml by `mailwarden firewall generate --backend iis`.
#   Do not edit: change the policy and generate again.
# Run in an elevated Windows PowerShell on mail.example.com. Running it again is safe: it adds
#   the entries that are missing and removes those the policy no longer lists. README-ecp.txt
#   has the caveats (OWA options, load balancer, IPv6).
# Order matters: every allow entry is in, and checked, before allowUnlisted becomes false, so
#   that a failure half-way never locks the administrators out of /ecp.
#Requires -RunAsAdministrator
$ErrorActionPreference = 'Stop'

# ipSecurity is locked at server level (overrideModeDefault="Deny"): it is written in
#   applicationHost.config (APPHOST) under a location for the path, not in the web.config of
#   /ecp.
$psPath = 'MACHINE/WEBROOT/APPHOST'
$location = 'Default Web Site/ecp'
$section = 'system.webServer/security/ipSecurity'

# 1. The IP and Domain Restrictions role service: IIS enforces ipSecurity only with it
#   installed.
Install-WindowsFeature -Name Web-IP-Security | Out-Null
Import-Module WebAdministration

# 2. A backup to return to.
$backup = 'mailwarden-ecp-' + (Get-Date -Format 'yyyyMMdd-HHmmss')
Backup-WebConfiguration -Name $backup | Out-Null
Write-Host "IIS configuration saved; to undo: Restore-WebConfiguration -Name $backup"

# 3. The allow list of the policy.
$entries = @(
  @{ ipAddress = '127.0.0.0'; subnetMask = '255.0.0.0' }  # loopback
  @{ ipAddress = '::1' }  # loopback
  @{ ipAddress = '192.0.2.25'; subnetMask = '255.255.255.255' }  # Exchange server
  @{ ipAddress = '2001:db8:e::25' }  # Exchange server
  @{ ipAddress = '198.51.100.0'; subnetMask = '255.255.255.240' }  # admin network
  @{ ipAddress = '203.0.113.7'; subnetMask = '255.255.255.255' }  # admin network
  @{ ipAddress = '2001:db8:ad::'; subnetMask = '120' }  # admin network
)

# IIS keys an entry by ipAddress, subnetMask and domainName; an entry written without subnetMask
#   reads back with the default, 255.255.255.255.
function Get-EntryKey([string]$ip, [string]$mask) {
  if ([string]::IsNullOrEmpty($mask)) { $mask = '255.255.255.255' }
  return ($ip + '/' + $mask).ToLowerInvariant()
}
function Get-Entries {
  @(Get-WebConfiguration -PSPath $psPath -Location $location -Filter "$section/add")
}
function Remove-Entry($el) {
  if ($el.ipAddress) { $at = @{ ipAddress = $el.ipAddress; subnetMask = $el.subnetMask } } else { $at = @{ domainName = $el.domainName } }
  Remove-WebConfigurationProperty -PSPath $psPath -Location $location -Filter $section -Name '.' -AtElement $at
}
$wanted = @{}
foreach ($e in $entries) { $wanted[(Get-EntryKey $e.ipAddress $e.subnetMask)] = $true }

# 4. A deny entry with the key of one of ours would make its add fail: remove it first (this
#   only widens access).
foreach ($el in Get-Entries) {
  if (-not $el.allowed -and $wanted.ContainsKey((Get-EntryKey $el.ipAddress $el.subnetMask))) {
    Remove-Entry $el
  }
}

# 5. The allow entries, FIRST.
$present = @{}
foreach ($el in Get-Entries) { $present[(Get-EntryKey $el.ipAddress $el.subnetMask)] = $true }
foreach ($e in $entries) {
  if ($present.ContainsKey((Get-EntryKey $e.ipAddress $e.subnetMask))) { continue }
  Add-WebConfigurationProperty -PSPath $psPath -Location $location -Filter $section -Name '.' -Value ($e + @{ allowed = $true })
  Write-Host "allowed $($e.ipAddress) $($e.subnetMask)"
}

# 6. Entries the policy does not list (an old admin network, a hand-made exception) go.
foreach ($el in Get-Entries) {
  if ($el.allowed -and $wanted.ContainsKey((Get-EntryKey $el.ipAddress $el.subnetMask))) { continue }
  Write-Host "removed $($el.ipAddress) $($el.subnetMask) $($el.domainName) (allowed=$($el.allowed)): not in the policy"
  Remove-Entry $el
}

# 7. Every allow entry must be there before unlisted addresses are refused.
$have = @{}
foreach ($el in Get-Entries) {
  if ($el.allowed) { $have[(Get-EntryKey $el.ipAddress $el.subnetMask)] = $true }
}
foreach ($k in $wanted.Keys) {
  if (-not $have.ContainsKey($k)) {
    throw "allow entry $k is missing under ${location}; allowUnlisted left as it was"
  }
}

# 8. The settings, then allowUnlisted=false LAST.
Set-WebConfigurationProperty -PSPath $psPath -Location $location -Filter $section -Name 'denyAction' -Value 'AbortRequest'
Set-WebConfigurationProperty -PSPath $psPath -Location $location -Filter $section -Name 'enableProxyMode' -Value $false
Set-WebConfigurationProperty -PSPath $psPath -Location $location -Filter $section -Name 'allowUnlisted' -Value $false

# 9. IIS applies applicationHost.config changes by itself; recycling the admin center's pool
#   makes sure, without interrupting OWA, ActiveSync or Outlook (iisreset /noforce would, for
#   every user).
Restart-WebAppPool -Name 'MSExchangeECPAppPool'

# 10. Verification: the settings and the entries as IIS reads them.
Get-WebConfiguration -PSPath $psPath -Location $location -Filter $section | Format-List allowUnlisted, denyAction, enableProxyMode
Get-Entries | Format-Table ipAddress, subnetMask, allowed -AutoSize
# Then by hand (README-ecp.txt, Verify): on this server https://localhost/ecp shows the sign-in
#   page; from an admin network https://<server>/ecp does too; from any other address the
#   connection is closed without a response.
